import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LastManager } from '../../../src/shared/domain-errors.js';
import type { ManagerRosterEvent } from '../../../src/shared/events/manager-roster.js';
import { managerRosterDecider } from '../../../src/write/manager-roster/decider.js';
import { spec } from '../../support/given-when-then.js';

const test = suite('manager roster decider: never no manager');
const roster = spec(managerRosterDecider);

const ann = '01900000-0000-7000-8000-0000000000a1';
const ben = '01900000-0000-7000-8000-0000000000a2';
const started = (...userIds: string[]): ManagerRosterEvent => ({ type: 'ManagerRosterStarted', data: { userIds } });

test('starts once, from the managers found; a second start writes nothing', () => {
  roster.when({ type: 'StartRoster', userIds: [ann] }).then([started(ann)]);
  roster.given([started(ann)]).when({ type: 'StartRoster', userIds: [ann, ben] }).thenNothing();
});

test('removes a manager while another remains', () => {
  roster.given([started(ann, ben)]).when({ type: 'RemoveManager', userId: ben }).then([{ type: 'ManagerRemoved', data: { userId: ben } }]);
});

test('refuses to remove the last manager, naming them', () => {
  const error = roster.given([started(ann, ben), { type: 'ManagerRemoved', data: { userId: ben } }]).when({ type: 'RemoveManager', userId: ann }).thenThrows(LastManager);
  assert.match(error.message, ann);
});

test('adding a member or removing a non-member writes nothing (a retry is harmless)', () => {
  roster.given([started(ann)]).when({ type: 'AddManager', userId: ann }).thenNothing();
  roster.given([started(ann)]).when({ type: 'RemoveManager', userId: ben }).thenNothing();
  roster.given([started(ann)]).when({ type: 'AddManager', userId: ben }).then([{ type: 'ManagerAdded', data: { userId: ben } }]);
});

test.run();
