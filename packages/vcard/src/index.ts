export type { VCard, VCardName, VCardOrg, VCardPhoto, VCardTel, VcardOptions } from './vcard.js'
export { NS_VCARD, parseVcard, vcard, vcardElement } from './vcard.js'
