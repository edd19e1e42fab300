export type TarEntry = { path: string; dir: true } | { path: string; data: Uint8Array | string; dir?: false };
export function createTar(entries: TarEntry[], mtime?: number): Buffer;
