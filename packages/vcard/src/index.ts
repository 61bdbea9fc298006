export type {
  VCard,
  VCardName,
  VCardOrg,
  VCardPhoto,
  VCardTel,
  VCardTelType,
  VcardHandle,
  VcardOptions,
} from './vcard.js'
export { NS_VCARD, parseVcard, TEL_TYPES, vcard, vcardElement } from './vcard.js'
