import type * as Net from 'node:net'
import type * as Tls from 'node:tls'
import { net, tls } from '../builtins.js'
import type { ResolvedOptions, TlsOptions } from '../config.js'

// node:tls is loaded only for xmpps:// services (it adds ~3.5 MiB to an idle process): see builtins.ts.

/** What a TLS failure says about the configuration, when it says something. */
export type TlsProblem =
  /** The port does not speak TLS (`xmpps://` pointed at a plaintext port). */
  | 'not-tls'
  /** The certificate cannot be trusted for this name (or the server refused ours). */
  | 'certificate'

const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG'])

// OpenSSL's X.509 verification codes, as Node reports them in err.code, and Node's own
// ERR_TLS_CERT_*; ERR_SSL_*_ALERT_*CERTIFICATE* / *UNKNOWN_CA: the server refused our certificate.
const CERTIFICATE =
  /^(ERR_TLS_CERT|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_(VERIFY|GET_ISSUER|DECRYPT|DECODE)|CERT_|INVALID_CA$|INVALID_PURPOSE$|PATH_LENGTH_EXCEEDED$|HOSTNAME_MISMATCH$|ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_(BAD_CERTIFICATE|CERTIFICATE_|UNKNOWN_CA|UNSUPPORTED_CERTIFICATE))/

/**
 * Classifies a socket error code of a TLS connection: `'not-tls'`, `'certificate'`, or
 * `undefined` when the code says nothing about the configuration (a reset, a timeout...).
 * Both are configuration errors that retrying cannot fix: the component stops (fatal), and
 * `satellite check` names the setting to change.
 */
export function tlsProblem(code: string | undefined): TlsProblem | undefined {
  if (code === undefined) return undefined
  if (NOT_TLS.has(code)) return 'not-tls'
  return CERTIFICATE.test(code) ? 'certificate' : undefined
}

/**
 * Opens the TCP connection, or the direct TLS one for `xmpps://`: TLS verifies the certificate
 * unless `rejectUnauthorized` is false, with SNI and the name check on the service host (none for
 * an IP address) unless `servername` says otherwise.
 */
export function openSocket(service: ResolvedOptions['service'], t: TlsOptions): Net.Socket {
  const { host, port } = service
  if (!service.tls) return net.connect({ host, port })
  const opts: Tls.ConnectionOptions = { host, port, rejectUnauthorized: t.rejectUnauthorized ?? true }
  const servername = t.servername ?? (net.isIP(host) ? undefined : host)
  if (servername !== undefined) opts.servername = servername
  if (t.ca !== undefined) opts.ca = t.ca
  if (t.cert !== undefined) opts.cert = t.cert
  if (t.key !== undefined) opts.key = t.key
  return tls().connect(opts)
}
