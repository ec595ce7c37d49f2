import { z } from 'zod';
import { recordId, page, timestamp } from './common.js';

/** auth's password length rule (code points); the web's forms ask for the same before sending. */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

export const role = z.enum(['admin', 'user']);
export type Role = z.infer<typeof role>;

export const userStatus = z.enum(['active', 'pending', 'disabled']);
export type UserStatus = z.infer<typeof userStatus>;

/** auth's view of a user, wherever it answers with one (register, sign-in, me, admin). */
export const user = z.object({
  id: recordId,
  email: z.string(),
  name: z.string().nullable(),
  role,
  status: userStatus,
  createdAt: timestamp,
  updatedAt: timestamp,
  lastLoginAt: timestamp.nullable(),
  /** The bootstrap admin until they replace the generated password (the web app asks them to). */
  mustChangePassword: z.boolean(),
});
export type User = z.infer<typeof user>;

/** `POST /api/auth/register`: 202, the same whether or not the address already has an account. */
export const registrationAnswer = z.object({ status: z.literal('pending'), message: z.string() });
export type RegistrationAnswer = z.infer<typeof registrationAnswer>;

/** `{ user }`: GET /me-style reads and the admin's changes to one user. */
export const userResponse = z.object({ user });
export type UserResponse = z.infer<typeof userResponse>;

/** `GET /api/auth/me`: who the caller is and how they signed the request. */
export const meResponse = z.object({ user, via: z.enum(['access_token', 'api_key']) });
export type MeResponse = z.infer<typeof meResponse>;

/** `GET /api/auth/admin/users`. */
export const userPage = page(user);

/** `POST /api/auth/login` and `/refresh`: an access token, the refresh token (also the cookie), the user. */
export const session = z.object({
  accessToken: z.string().min(1),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().positive(),
  refreshToken: z.string().min(1),
  refreshExpiresIn: z.number().int().positive(),
  user,
});
export type Session = z.infer<typeof session>;

/** `POST /api/auth/admin/keys/rotate`: the new signing key and the ones it retired. */
export const signingKeyRotation = z.object({ kid: z.string(), retired: z.array(z.string()) });
export type SigningKeyRotation = z.infer<typeof signingKeyRotation>;

/**
 * Why a sign-in through the company's identity provider ended on the error page
 * (`/login/error?reason=…`): each one is something the user (or their admin) can act on.
 */
export const oidcErrorReason = z.enum([
  'idp_unreachable',
  'idp_error',
  'state_mismatch',
  'flow_expired',
  'group_not_allowed',
  'email_not_verified',
  'email_missing',
  'account_disabled',
  'account_pending',
  'registration_closed',
  'sign_in_failed',
  'groups_claim_too_large',
  'not_configured',
]);
export type OidcErrorReason = z.infer<typeof oidcErrorReason>;

/** `GET /api/auth/config`: what the sign-in page offers (public, no secrets). */
export const authPublicConfig = z.object({
  passwordLogin: z.boolean(),
  registration: z.enum(['open', 'code', 'closed']),
  oidc: z
    .object({
      buttonLabel: z.string(),
      loginUrl: z.string(),
      /** Where to go after signing out: ends the IdP session too when it offers RP-initiated logout. */
      logoutUrl: z.string(),
    })
    .nullable(),
});
export type AuthPublicConfig = z.infer<typeof authPublicConfig>;

export const groupSource = z.enum(['admin', 'oidc']);
export type GroupSource = z.infer<typeof groupSource>;

/** A group as auth answers it: `oidc` groups are synced from the IdP's groups claim. */
export const group = z.object({
  id: recordId,
  name: z.string(),
  source: groupSource,
  memberCount: z.number().int().min(0),
  /** Models the group grants; a model named by any group is usable only by members of a group naming it. */
  allowedModels: z.array(z.string()),
  /** Limits for members: `null` = the group sets none, `0` = unlimited. */
  requestsPerMinute: z.number().int().min(0).nullable(),
  dailyTokenBudget: z.number().int().min(0).nullable(),
  maxConcurrentStreams: z.number().int().min(0).nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Group = z.infer<typeof group>;

const INT32_MAX = 2_147_483_647;
const groupLimit = z.number().int().min(0).max(INT32_MAX).nullable();

/**
 * `PUT /api/auth/admin/groups/:id/limits` (admin and synced groups alike): fields sent are
 * replaced (`null` = the group sets none, `[]` = grants no model), fields left out are kept.
 */
export const groupLimitsPatch = z
  .object({
    allowedModels: z.array(z.string().trim().min(1).max(200)).max(200),
    requestsPerMinute: groupLimit,
    dailyTokenBudget: groupLimit,
    maxConcurrentStreams: groupLimit,
  })
  .partial()
  .strict();
export type GroupLimitsPatch = z.infer<typeof groupLimitsPatch>;

/** One group's grant as other services read it (no member count). */
export const groupGrant = group.pick({
  id: true,
  name: true,
  allowedModels: true,
  requestsPerMinute: true,
  dailyTokenBudget: true,
  maxConcurrentStreams: true,
});
export type GroupGrant = z.infer<typeof groupGrant>;

/**
 * `GET /api/auth/users/:id/grants` (internal service token): the user's groups with what they
 * carry, and every model any group names (those are group-restricted for everyone).
 */
export const userGrants = z.object({
  userId: z.string(),
  groups: z.array(groupGrant),
  restrictedModels: z.array(z.string()),
});
export type UserGrants = z.infer<typeof userGrants>;

/** `GET /api/auth/admin/groups`. */
export const groupList = z.object({ items: z.array(group) });
/** `POST /api/auth/admin/groups`, `PATCH /api/auth/admin/groups/:id`. */
export const groupResponse = z.object({ group });
export const groupName = z.string().trim().min(1).max(200);
export const groupBody = z.object({ name: groupName }).strict();
/** `GET /api/auth/admin/groups/:id/members`. */
export const groupMembers = z.object({ items: z.array(user) });
/** `GET /api/auth/admin/users/:id/groups`. */
export const userGroups = z.object({ items: z.array(group) });

/** `GET /api/auth/groups/members` (internal service token): every group and its members' ids. */
export const groupMemberships = z.object({
  items: z.array(z.object({ id: z.string(), name: z.string(), userIds: z.array(z.string()) })),
});
export type GroupMemberships = z.infer<typeof groupMemberships>;
