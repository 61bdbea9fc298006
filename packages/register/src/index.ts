export type {
  LegacyField,
  Registration,
  RegistrationHandle,
  RegistrationHooks,
  RegistrationOptions,
} from './register.js'
export { LEGACY_FIELDS, NS_REGISTER, registration } from './register.js'
