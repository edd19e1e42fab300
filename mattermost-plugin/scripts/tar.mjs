// A minimal ustar writer: enough for a plugin bundle (regular files and directories, paths
// under 100 bytes). Avoids a dependency for ~50 lines of a well-documented format.

const BLOCK = 512;

function octal(n, width) {
  // width includes the trailing NUL
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name, size, type, mode, mtime) {
  const buf = Buffer.alloc(BLOCK, 0);
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length > 100) throw new Error(`tar path too long: ${name}`);
  nameBytes.copy(buf, 0);
  buf.write(octal(mode, 8), 100, 'ascii');
  buf.write(octal(0, 8), 108, 'ascii'); // uid
  buf.write(octal(0, 8), 116, 'ascii'); // gid
  buf.write(octal(size, 12), 124, 'ascii');
  buf.write(octal(Math.floor(mtime / 1000), 12), 136, 'ascii');
  buf.write('        ', 148, 'ascii'); // checksum counts as spaces while computing it
  buf.write(type, 156, 'ascii');
  buf.write('ustar\0', 257, 'ascii');
  buf.write('00', 263, 'ascii');
  buf.write('root', 265, 'ascii');
  buf.write('root', 297, 'ascii');
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return buf;
}

/**
 * entries: [{ path: 'a/b/', dir: true } | { path: 'a/b/c.txt', data: Buffer }]
 * Returns the uncompressed tar as one Buffer.
 */
export function createTar(entries, mtime = Date.now()) {
  const parts = [];
  for (const e of entries) {
    if (e.dir) {
      const name = e.path.endsWith('/') ? e.path : `${e.path}/`;
      parts.push(header(name, 0, '5', 0o755, mtime));
      continue;
    }
    const data = Buffer.from(e.data);
    parts.push(header(e.path, data.length, '0', 0o644, mtime), data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0)); // end-of-archive marker
  return Buffer.concat(parts);
}
