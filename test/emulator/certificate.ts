/** A self-signed certificate for 127.0.0.1 and localhost, made fresh for each emulator. */
import { generate } from 'selfsigned';

export interface GeneratedCertificate {
  certPem: string;
  keyPem: string;
}

export async function generateCertificate(commonName = 'emulator.localhost'): Promise<GeneratedCertificate> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 7 * 24 * 3600_000);
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}
