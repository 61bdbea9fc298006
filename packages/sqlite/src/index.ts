export type { Db, Migration, OpenOptions } from './database.js'
export { migrate, openDatabase, schemaVersion } from './database.js'
