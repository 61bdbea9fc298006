export { formElement, submitForm } from './build.js'
export type { FieldError, FieldErrorReason } from './errors.js'
export { conditionFor, FormError } from './errors.js'
export type { ParsedField, ParsedForm } from './parse.js'
export { fieldValue, findForm, parseForm } from './parse.js'
export { excerpt } from './text.js'
export type {
  BooleanField,
  DataForm,
  Field,
  FieldOption,
  FieldType,
  FieldValue,
  FixedField,
  FormType,
  FormValues,
  HiddenField,
  InputField,
  Inputs,
  JidMultiField,
  JidSingleField,
  ListMultiField,
  ListSingleField,
  TextField,
  TextHints,
  TextMultiField,
  ValueOf,
} from './types.js'
export { defineForm, FIELD_TYPES, FORM_TYPES, MULTI_VALUE_TYPES, NS_DATA } from './types.js'
export type { ValidateOptions, Validation } from './validate.js'
export { assertSubmission, isValidJid, validateSubmission } from './validate.js'
