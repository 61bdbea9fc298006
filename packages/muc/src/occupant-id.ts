// XEP-0421 occupant ids: HMAC-SHA-256(secret, room JID + NUL + real bare JID), the first 16
// bytes in base64url. Stable for one user in one room while the secret stays (give the
// `occupantIdSecret` option to keep them across restarts); different in every room, so two rooms
// cannot be correlated; the real JID cannot be read back from it.
import { createHmac, randomBytes } from 'node:crypto'

/** Makes the occupant id of a (room, bare JID) pair. */
export type OccupantIds = (room: string, bare: string) => string

export function occupantIds(secret: string | undefined): OccupantIds {
  const key = secret ?? randomBytes(32).toString('base64')
  return (room, bare) =>
    createHmac('sha256', key).update(`${room}\u0000${bare}`).digest().subarray(0, 16).toString('base64url')
}
