import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDockerargs } from '../../src/config/dockerargs.js';
import { InputError, InputErrors } from '../../src/config/errors.js';

const kv = (text: string) => Object.fromEntries(parseDockerargs(text, '.dockerargs').map((e) => [e.key, e.value]));

describe('.dockerargs parser', () => {
  it('reads the upstream file format verbatim', () => {
    const upstream = 'BASE_IMAGE=ubuntu:24.04\nTAG_POSTFIX=\nPIP_MIRROR_URL=https://mirror.example/pypi/web/simple\n__EOF__=__EOF__';
    assert.deepEqual(kv(upstream), {
      BASE_IMAGE: 'ubuntu:24.04',
      TAG_POSTFIX: '',
      PIP_MIRROR_URL: 'https://mirror.example/pypi/web/simple',
    });
  });
  it('splits at the first = only', () => assert.deepEqual(kv('C=a=b==c\n'), { C: 'a=b==c' }));
  it('keeps the last line without a trailing newline', () => assert.deepEqual(kv('A=1\nB=2'), { A: '1', B: '2' }));
  it('treats KEY= as the empty string', () => assert.deepEqual(kv('A=\n'), { A: '' }));
  it('skips blank lines and # comments, tolerates CRLF and a BOM', () => {
    assert.deepEqual(kv('\uFEFF# comment\r\n\r\nA=1\r\n   # indented comment\r\nB=two words\r\n'), { A: '1', B: 'two words' });
  });
  it('strips optional quotes; double quotes take escapes, single quotes are literal', () => {
    assert.deepEqual(kv(`A="x y"\nB='a $HOME "q"'\nC="tab\\tq\\"e\\\\"\nD="#not a comment"\n`), {
      A: 'x y',
      B: 'a $HOME "q"',
      C: 'tab\tq"e\\',
      D: '#not a comment',
    });
  });
  it('keeps $, quotes inside and spaces of unquoted values', () => assert.deepEqual(kv('A=a"b $X c\n'), { A: 'a"b $X c' }));
  it('accepts an export prefix (as in the upstream .env files)', () =>
    assert.deepEqual(kv('export TAG_POSTFIX=-ascend'), { TAG_POSTFIX: '-ascend' }));
  it('records file and line of every entry', () => {
    const [a, b] = parseDockerargs('# c\nA=1\n\nB=2\n', 'x/.dockerargs');
    assert.deepEqual([a!.line, b!.line, b!.file], [2, 4, 'x/.dockerargs']);
  });
  it('reports every bad line at once, each with its line number', () => {
    try {
      parseDockerargs('GOOD=1\nNOEQUALS\n1BAD=x\nGOOD=2\n', '.dockerargs');
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof InputErrors);
      assert.deepEqual(
        e.errors.map((x) => x.format().split('\n')[0]),
        [
          ".dockerargs:2: line 2 is not KEY=VALUE (it has no '=')",
          '.dockerargs:3: invalid key "1BAD"',
          '.dockerargs:4: duplicate key GOOD (first set on line 1)',
        ],
      );
    }
  });
  it('a single error is an InputError with exit code 2', () => {
    assert.throws(
      () => parseDockerargs('A="open\n', 'f'),
      (e: unknown) =>
        e instanceof InputError && e.exitCode === 2 && e.format().startsWith('f:1: unterminated double quote in the value of A'),
    );
  });
});
