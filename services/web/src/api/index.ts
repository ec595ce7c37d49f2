import { authApi } from './auth.js';
import { chatApi } from './chat.js';
import { ApiClient } from './http.js';
import { organizeApi } from './organize.js';
import { libraryApi } from './library.js';

export * from './errors.js';
export type * from './types.js';
export { ApiClient } from './http.js';

/** The app's single client: every call goes through one token and refresh state. */
export const http = new ApiClient();
export const api = {
  auth: authApi(http),
  chat: chatApi(http),
  organize: organizeApi(http),
  library: libraryApi(http),
};
export type Api = typeof api;
