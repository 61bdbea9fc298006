export type { EscapeOptions } from './escaping.js'
export {
  escapeLocal,
  fromJid,
  isEscaped,
  MAX_LOCAL_BYTES,
  toJid,
  unescapeLocal,
  XEP0106_CHARS,
} from './escaping.js'
