import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EngineEvent } from '../../../api/types/containers';
import { dockerEventJson, eventMatches, parseEventTime } from './event-routes';
import { applyChanges } from './image-io-routes';

const start: EngineEvent = { type: 'container', action: 'start', id: 'abc123', attributes: { name: 'web', image: 'busybox', tier: 'front' }, timeNano: '1700000000123456789' };
const tag: EngineEvent = { type: 'image', action: 'tag', id: 'sha256:feed', attributes: { name: 'busybox:1' }, timeNano: '1700000001000000000' };

test('event times: Unix seconds with up to nine decimals, as nanoseconds; anything else is refused', () => {
  assert.equal(parseEventTime('1700000000', 'since'), 1_700_000_000_000_000_000n);
  assert.equal(parseEventTime('1700000000.5', 'since'), 1_700_000_000_500_000_000n);
  assert.equal(parseEventTime(null, 'since'), undefined);
  assert.throws(() => parseEventTime('10m', 'until'), /until must be a Unix timestamp/);
});

test('event filters: each key is an OR of its values, keys are ANDed', () => {
  assert.equal(eventMatches(start, {}), true);
  assert.equal(eventMatches(start, { type: ['container'], event: ['start', 'die'] }), true);
  assert.equal(eventMatches(start, { container: ['web'] }), true);
  assert.equal(eventMatches(start, { container: ['abc'] }), true);
  assert.equal(eventMatches(start, { container: ['db'] }), false);
  assert.equal(eventMatches(start, { image: ['busybox'] }), true);
  assert.equal(eventMatches(start, { label: ['tier=front'] }), true);
  assert.equal(eventMatches(start, { label: ['tier=back'] }), false);
  assert.equal(eventMatches(start, { label: ['tier'], event: ['die'] }), false);
  assert.equal(eventMatches(tag, { type: ['image'], image: ['busybox:1'] }), true);
  assert.equal(eventMatches(tag, { container: ['web'] }), false);
});

test('event filters: health_status (like exec_create, exec_start) matches its "health_status: STATUS" forms', () => {
  const healthy: EngineEvent = { ...start, action: 'health_status: healthy' };
  assert.equal(eventMatches(healthy, { event: ['health_status'] }), true);
  assert.equal(eventMatches(healthy, { event: ['health_status: healthy'] }), true);
  assert.equal(eventMatches(healthy, { event: ['health_status: unhealthy'] }), false);
  assert.equal(eventMatches(start, { event: ['health_status'] }), false);
  assert.equal(eventMatches(healthy, { event: ['health'] }), false);
});

test("Docker's event messages carry Type, Action, Actor and both times", () => {
  const text = dockerEventJson(start);
  assert.match(text, /"timeNano":1700000000123456789[,}]/);
  assert.deepEqual({ ...(JSON.parse(text) as object), timeNano: 'checked above' }, {
    Type: 'container',
    Action: 'start',
    Actor: { ID: 'abc123', Attributes: start.attributes },
    scope: 'local',
    time: 1700000000,
    timeNano: 'checked above',
    status: 'start',
    id: 'abc123',
    from: 'busybox',
  });
});

test('import --change: the config-only Dockerfile instructions', () => {
  assert.deepEqual(applyChanges(['CMD ["/bin/app", "-v"]', 'ENTRYPOINT /init', 'ENV A=1 B=two', 'ENV C 3', 'WORKDIR /srv', 'USER app', 'LABEL x=y "z"="w"', 'EXPOSE 80 53/udp']), {
    Cmd: ['/bin/app', '-v'],
    Entrypoint: ['/bin/sh', '-c', '/init'],
    Env: ['A=1', 'B=two', 'C=3'],
    WorkingDir: '/srv',
    User: 'app',
    Labels: { x: 'y', z: 'w' },
    ExposedPorts: { '80/tcp': {}, '53/udp': {} },
  });
  assert.throws(() => applyChanges(['RUN make']), /RUN is not supported/);
});
