/**
 * Decoder for the BuildKit progress messages the Engine streams during `version: "2"` builds
 * (moby.buildkit.v1.StatusResponse, base64 protobuf in `aux`). Only the fields idekube uses are read:
 * vertexes (digest, name, cached, started, completed, error) and logs (vertex, msg).
 */

export interface Vertex {
  digest: string;
  name: string;
  cached: boolean;
  started: boolean;
  completed: boolean;
  error?: string;
}

export interface VertexLog {
  vertex: string;
  msg: string;
}

export interface Status {
  vertexes: Vertex[];
  logs: VertexLog[];
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
    }
  }
  bytes(): Buffer {
    const len = this.varint();
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  *fields(): Generator<[number, number]> {
    while (!this.done()) {
      const key = this.varint();
      yield [Math.floor(key / 8), key & 7];
    }
  }
}

function vertex(buf: Buffer): Vertex {
  const r = new Reader(buf);
  const v: Vertex = { digest: '', name: '', cached: false, started: false, completed: false };
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) v.digest = r.bytes().toString('utf8');
    else if (field === 3 && wire === 2) v.name = r.bytes().toString('utf8');
    else if (field === 4 && wire === 0) v.cached = r.varint() !== 0;
    else if (field === 5 && wire === 2) v.started = r.bytes().length >= 0;
    else if (field === 6 && wire === 2) v.completed = r.bytes().length >= 0;
    else if (field === 7 && wire === 2) v.error = r.bytes().toString('utf8');
    else r.skip(wire);
  }
  return v;
}

function log(buf: Buffer): VertexLog {
  const r = new Reader(buf);
  const l: VertexLog = { vertex: '', msg: '' };
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) l.vertex = r.bytes().toString('utf8');
    else if (field === 4 && wire === 2) l.msg = r.bytes().toString('utf8');
    else r.skip(wire);
  }
  return l;
}

export function decodeStatus(base64: string): Status {
  const r = new Reader(Buffer.from(base64, 'base64'));
  const s: Status = { vertexes: [], logs: [] };
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) s.vertexes.push(vertex(r.bytes()));
    else if (field === 3 && wire === 2) s.logs.push(log(r.bytes()));
    else r.skip(wire);
  }
  return s;
}
