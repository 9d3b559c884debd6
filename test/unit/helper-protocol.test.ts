/**
 * The helper protocol framing (src/native/protocol.ts): encoding, decoding across arbitrary
 * chunk boundaries, and rejection of malformed frames.
 */
import * as assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { encodeMessage, MessageDecoder, readMessages } from '../../src/native/protocol.js';

const str = (m: Buffer[]) => m.map((b) => b.toString('latin1'));

describe('helper protocol framing', () => {
  it('encodes u32le lengths for the body and each field', () => {
    const b = encodeMessage(['pid', '42']);
    assert.deepEqual([...b], [13, 0, 0, 0, 3, 0, 0, 0, 0x70, 0x69, 0x64, 2, 0, 0, 0, 0x34, 0x32]);
  });

  it('decodes messages split at every byte and several per chunk, binary safe', () => {
    const bin = Buffer.from([0, 1, 2, 255, 0]);
    const wire = Buffer.concat([encodeMessage(['seccomp', '0', bin]), encodeMessage(['env']), encodeMessage(['x', ''])]);
    for (let cut = 0; cut <= wire.length; cut++) {
      const dec = new MessageDecoder();
      const got = [...dec.push(wire.subarray(0, cut)), ...dec.push(wire.subarray(cut))];
      assert.deepEqual(got.map(str), [['seccomp', '0', bin.toString('latin1')], ['env'], ['x', '']]);
      assert.equal(dec.pending, 0);
    }
  });

  it('rejects a field that overruns its message and an empty message', () => {
    const bad = Buffer.from([8, 0, 0, 0, 9, 0, 0, 0, 1, 2, 3, 4]);
    assert.throws(() => new MessageDecoder().push(bad), /field overruns its message/);
    assert.throws(() => new MessageDecoder().push(Buffer.from([0, 0, 0, 0])), /empty message/);
  });

  it('reads messages from a stream and fails on a truncated one', async () => {
    const s = new PassThrough();
    s.end(Buffer.concat([encodeMessage(['ready']), encodeMessage(['exit', '0']).subarray(0, 6)]));
    const got: string[][] = [];
    await assert.rejects(async () => {
      for await (const m of readMessages(s)) got.push(str(m));
    }, /stream ended inside a message/);
    assert.deepEqual(got, [['ready']]);
  });
});
