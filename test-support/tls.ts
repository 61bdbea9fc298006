// A self-signed certificate for localhost and 127.0.0.1 (openssl, one day), for the tests' TLS fronts.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The certificate and key (PEM) and the fresh temporary directory holding them (the caller removes it). */
export interface SelfSigned {
  dir: string
  cert: string
  key: string
}

/** Writes a self-signed certificate into a new temporary directory named `prefix…`. */
export function selfSignedCert(prefix: string): SelfSigned {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  )
  return {
    dir,
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
  }
}
