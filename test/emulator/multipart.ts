/** Minimal multipart/form-data parser for the emulator (workspace import). */
export interface MultipartFile {
  name: string;
  filename: string;
  contentType?: string;
  content: Buffer;
}

export interface MultipartBody {
  fields: Record<string, string>;
  files: MultipartFile[];
}

export function parseMultipart(raw: Buffer, contentType: string): MultipartBody {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const out: MultipartBody = { fields: {}, files: [] };
  if (!m) return out;
  const boundary = Buffer.from('--' + (m[1] ?? m[2]).trim());
  let pos = raw.indexOf(boundary);
  while (pos >= 0) {
    const start = pos + boundary.length;
    if (raw.subarray(start, start + 2).toString() === '--') break;
    const next = raw.indexOf(boundary, start);
    if (next < 0) break;
    // Part: CRLF headers CRLF CRLF body CRLF
    const part = raw.subarray(start + 2, next - 2);
    const sep = part.indexOf('\r\n\r\n');
    if (sep >= 0) {
      const headerText = part.subarray(0, sep).toString('utf8');
      const content = part.subarray(sep + 4);
      const disp = /content-disposition:[^\r\n]*/i.exec(headerText)?.[0] ?? '';
      const name = /\bname="([^"]*)"/i.exec(disp)?.[1] ?? '';
      const filename = /\bfilename="([^"]*)"/i.exec(disp)?.[1];
      const ctype = /content-type:\s*([^\r\n]+)/i.exec(headerText)?.[1];
      if (filename !== undefined) out.files.push({ name, filename, contentType: ctype, content });
      else out.fields[name] = content.toString('utf8');
    }
    pos = next;
  }
  return out;
}
