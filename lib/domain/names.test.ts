import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { base32, objectName, requestHash, requestHashOfMaxtacName, type ObjectRole } from './names.ts';
import { DNS1035_LABEL, MAX_LABEL_LENGTH as MAX_NAME_LENGTH } from '../api/names.ts';

const roles: ObjectRole[] = ['sourceClone', 'targetClone', 'sourceMaxtac', 'targetMaxtac'];
const uids = ['0f3c1a52-8e1b-4d38-9a0e-2b9d3f6a7c11', 'a', '00000000-0000-0000-0000-000000000000'];

describe('object names', () => {
  for (const uid of uids) {
    for (const role of roles) {
      it(`the ${role} name of request ${uid} is a DNS-1035 label of at most 63 characters`, () => {
        const name = objectName(uid, role);
        assert.match(name, DNS1035_LABEL);
        assert.ok(name.length <= MAX_NAME_LENGTH, name);
      });
    }
  }

  it('the same request always gets the same names', () => {
    for (const role of roles) assert.equal(objectName(uids[0]!, role), objectName(uids[0]!, role));
  });

  it('each role of a request gets a distinct name', () => {
    assert.equal(new Set(roles.map((r) => objectName(uids[0]!, r))).size, roles.length);
  });

  it('the name of either maxtac object leads back to the request hash; clone names and look-alikes do not', () => {
    const uid = uids[0]!;
    assert.equal(requestHashOfMaxtacName(objectName(uid, 'sourceMaxtac')), requestHash(uid));
    assert.equal(requestHashOfMaxtacName(objectName(uid, 'targetMaxtac')), requestHash(uid));
    for (const other of [objectName(uid, 'sourceClone'), objectName(uid, 'targetClone'), 'nwat-short', `nwat-${requestHash(uid)}x`, `nwat-${requestHash(uid).toUpperCase()}`, 'theirs']) {
      assert.equal(requestHashOfMaxtacName(other), undefined, other);
    }
  });

  it('two requests differing by one character get different names', () => {
    assert.notEqual(objectName('uid-1', 'sourceClone'), objectName('uid-2', 'sourceClone'));
  });

  it('the hash keeps all 256 bits of sha256 (52 base32 characters)', () => {
    assert.equal(requestHash('x').length, 52);
  });

  it('base32 encodes the RFC 4648 test vectors in lower case without padding', () => {
    const cases: [string, string][] = [['', ''], ['f', 'my'], ['fo', 'mzxq'], ['foo', 'mzxw6'], ['foob', 'mzxw6yq'], ['fooba', 'mzxw6ytb'], ['foobar', 'mzxw6ytboi']];
    for (const [input, expected] of cases) assert.equal(base32(Buffer.from(input)), expected, input);
  });

  it('an empty UID is refused rather than naming every request the same', () => {
    assert.throws(() => objectName('', 'sourceClone'), /UID is required/);
  });
});
