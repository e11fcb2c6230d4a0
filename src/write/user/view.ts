import { z } from 'zod/v4';
import { userWithSettingsView } from '../../shared/http/user-view.js';
import type { Loaded } from '../command-handler.js';
import type { ActiveUser, UserState } from './state.js';

export const toUserView = (user: ActiveUser, revision: number): z.infer<typeof userWithSettingsView> => ({
  id: user.userId,
  username: user.username,
  displayName: user.displayName,
  email: user.email,
  role: user.role,
  storeIds: [...user.storeIds],
  lowStockEmails: user.lowStockEmails,
  revision,
});

export const isActive = <L extends Pick<Loaded<UserState>, 'state'>>(loaded: L): loaded is L & { state: ActiveUser } => loaded.state.status === 'active';
