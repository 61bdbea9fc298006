export type { EscapeOptions } from './escaping.js'
export {
  bidiRuleHolds,
  escapeLocal,
  fromJid,
  isEscaped,
  isRightToLeft,
  MAX_LOCAL_BYTES,
  toJid,
  unescapeLocal,
  XEP0106_CHARS,
} from './escaping.js'
