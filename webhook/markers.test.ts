import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { admitMarked, concernsMarkers, markersOf, type MarkedObject, type MarkersInput } from './markers.ts';
import { objectName } from '../lib/domain/names.ts';

const CONTROLLER = 'system:serviceaccount:netwatch-system:netwatch-controller';
const CONTROLLER_USER = { username: CONTROLLER, groups: ['system:serviceaccounts', 'system:serviceaccounts:netwatch-system', 'system:authenticated'] };
const MAXTAC = 'system:serviceaccount:maxtac-system:maxtac-controller-manager';
const GC = 'system:serviceaccount:kube-system:generic-garbage-collector';
const config = { controllerUsername: CONTROLLER, markerDeleters: [MAXTAC, GC], markerDeleterGroups: ['system:masters'] };
const UID = '0e6a3a43-6f43-4b8e-9b1c-5a8b3c9d2f10';
const cloneName = objectName(UID, 'targetClone');

function service(meta: Partial<NonNullable<MarkedObject['metadata']>> = {}, spec: Record<string, unknown> = { selector: { app: 'db' } }): MarkedObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'payments', ...meta }, spec };
}

const marked = (extra: Partial<NonNullable<MarkedObject['metadata']>> = {}) =>
  service({
    name: cloneName,
    labels: { 'netwatch.vtk.io/request-id': UID, 'netwatch.vtk.io/role': 'target', 'app.kubernetes.io/managed-by': 'netwatch' },
    annotations: { 'netwatch.vtk.io/request-name': 'ar-1' },
    ...extra,
  });

function input(over: Partial<MarkersInput>): MarkersInput {
  return { operation: 'CREATE', userInfo: { username: 'mallory', groups: ['developers'] }, kind: 'Service', oldObject: null, object: null, config, ...over };
}

describe('markers admission', () => {
  const cases: { name: string; input: MarkersInput; allowed: boolean; message?: RegExp }[] = [
    {
      name: 'a user may not create a Service carrying the request-id label (the piggyback attack)',
      input: input({ object: service({ labels: { 'netwatch.vtk.io/request-id': UID, 'netwatch.vtk.io/role': 'target' } }) }),
      allowed: false,
      message: /metadata\.labels\[netwatch\.vtk\.io\/request-id\], metadata\.labels\[netwatch\.vtk\.io\/role\]: user "mallory" may not create Service payments\/db: only the netwatch controller/,
    },
    {
      name: 'a user may not label a Service managed-by netwatch (the confused-deputy attack)',
      input: input({ object: service({ labels: { 'app.kubernetes.io/managed-by': 'netwatch' } }) }),
      allowed: false,
      message: /metadata\.labels\[app\.kubernetes\.io\/managed-by\]/,
    },
    {
      name: 'a user may not create a look-alike clone with netwatch\'s name and no labels (the adoption attack)',
      input: input({ object: service({ name: cloneName }) }),
      allowed: false,
      message: /metadata\.name: .*has the form of a netwatch name/,
    },
    {
      name: 'a user may not put a netwatch annotation alone on a Service',
      input: input({ object: service({ annotations: { 'netwatch.vtk.io/request-name': 'ar-1' } }) }),
      allowed: false,
      message: /metadata\.annotations\[netwatch\.vtk\.io\/request-name\]/,
    },
    {
      name: 'the controller creates its clone',
      input: input({ userInfo: CONTROLLER_USER, object: marked() }),
      allowed: true,
    },
    {
      name: 'a user named like the controller without its ServiceAccount group is not the controller',
      input: input({ userInfo: { username: CONTROLLER, groups: ['developers'] }, object: marked() }),
      allowed: false,
      message: /may not create/,
    },
    {
      name: 'not even the controller may put maxtac target annotations on a clone',
      input: input({ userInfo: CONTROLLER_USER, object: marked({ annotations: { 'maxtac.vtk.io.externalaccess/targets': '0.0.0.0-0' } }) }),
      allowed: false,
      message: /metadata\.annotations\[maxtac\.vtk\.io\.externalaccess\/targets\]: not allowed on Service payments\/nwt-.*a netwatch clone/,
    },
    {
      name: 'a user may not add maxtac annotations to an existing clone',
      input: input({ operation: 'UPDATE', oldObject: marked(), object: marked({ annotations: { 'netwatch.vtk.io/request-name': 'ar-1', 'maxtac.vtk.io.access/targets': 'api,shop' } }) }),
      allowed: false,
      message: /maxtac\.vtk\.io\.access\/targets/,
    },
    {
      name: 'a user may not widen a clone\'s selector',
      input: input({ operation: 'UPDATE', oldObject: marked(), object: { ...marked(), spec: { selector: {} } } }),
      allowed: false,
      message: /^spec: user "mallory" may not change Service payments\/nwt-/,
    },
    {
      name: 'a user may not remove a clone\'s markers',
      input: input({ operation: 'UPDATE', oldObject: marked(), object: marked({ labels: {} }) }),
      allowed: false,
      message: /^metadata\.labels: /,
    },
    {
      name: 'a user may not mark their own Service by an update',
      input: input({ operation: 'UPDATE', oldObject: service(), object: service({ labels: { 'netwatch.vtk.io/request-id': UID } }) }),
      allowed: false,
      message: /^metadata\.labels: /,
    },
    {
      name: 'another controller may add and remove its own finalizer on a clone',
      input: input({ operation: 'UPDATE', userInfo: { username: 'system:serviceaccount:x:y' }, oldObject: marked(), object: marked({ finalizers: ['example.com/keep'] }) }),
      allowed: true,
    },
    {
      name: 'nobody but the controller may remove netwatch\'s finalizer',
      input: input({ operation: 'UPDATE', oldObject: marked({ finalizers: ['netwatch.vtk.io/clones'] }), object: marked({ finalizers: [] }) }),
      allowed: false,
      message: /^metadata\.finalizers: /,
    },
    {
      name: 'a user may not delete a clone',
      input: input({ operation: 'DELETE', oldObject: marked() }),
      allowed: false,
      message: /may not delete it; to end a grant, revoke its AccessRequest/,
    },
    {
      name: 'a cluster administrator (system:masters) may delete a clone by hand',
      input: input({ operation: 'DELETE', userInfo: { username: 'admin', groups: ['system:masters', 'system:authenticated'] }, oldObject: marked() }),
      allowed: true,
    },
    {
      name: 'a cluster administrator may strip a stuck object\'s finalizers (a force delete) but not its markers',
      input: input({ operation: 'UPDATE', userInfo: { username: 'admin', groups: ['system:masters'] }, oldObject: marked({ finalizers: ['netwatch.vtk.io/clones'] }), object: marked({ finalizers: [] }) }),
      allowed: true,
    },
    {
      name: 'but not create one',
      input: input({ userInfo: { username: 'admin', groups: ['system:masters', 'system:authenticated'] }, object: marked() }),
      allowed: false,
      message: /user "admin" may not create/,
    },
    {
      name: 'maxtac deletes its expired object',
      input: input({ operation: 'DELETE', kind: 'Access', userInfo: { username: MAXTAC }, oldObject: { ...marked(), kind: 'Access' } }),
      allowed: true,
    },
    {
      name: 'the garbage collector may orphan a clone (drop its ownerReferences) but change nothing else',
      input: input({ operation: 'UPDATE', userInfo: { username: GC }, oldObject: marked({ ownerReferences: [{ uid: 'x' }] }), object: marked({ ownerReferences: [] }) }),
      allowed: true,
    },
    {
      name: 'a user may not re-parent a clone',
      input: input({ operation: 'UPDATE', oldObject: marked({ ownerReferences: [{ uid: 'x' }] }), object: marked({ ownerReferences: [] }) }),
      allowed: false,
      message: /^metadata\.ownerReferences: /,
    },
    {
      name: 'an unmarked Service is none of this webhook\'s business',
      input: input({ object: service({ labels: { app: 'db' } }) }),
      allowed: true,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const result = admitMarked(c.input);
      assert.equal(result.allowed, c.allowed, result.message);
      if (c.message) assert.match(result.message ?? '', c.message);
    });
  }

  test('markersOf names each marker as a field path', () => {
    assert.deepEqual(markersOf(marked()), [
      'metadata.labels[app.kubernetes.io/managed-by]',
      'metadata.labels[netwatch.vtk.io/request-id]',
      'metadata.labels[netwatch.vtk.io/role]',
      'metadata.annotations[netwatch.vtk.io/request-name]',
    ]);
    assert.deepEqual(markersOf(service({ labels: { 'app.kubernetes.io/managed-by': 'helm' } })), []);
  });

  test('an update that removes every marker still concerns the webhook (the old object is marked)', () => {
    assert.equal(concernsMarkers({ oldObject: marked(), object: service() }), true);
    assert.equal(concernsMarkers({ oldObject: service(), object: service() }), false);
  });
});
