export type {
  VCard,
  VCardName,
  VCardOrg,
  VCardPhoto,
  VCardTel,
  VCardTelType,
  VcardOptions,
} from './vcard.js'
export { NS_VCARD, parseVcard, TEL_TYPES, vcard, vcardElement } from './vcard.js'
