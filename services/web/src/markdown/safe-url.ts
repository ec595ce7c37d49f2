/** Protocols a link in model output may use; everything else (javascript:, data:, vbscript:…) is dropped. */
const ALLOWED_PROTOCOL = /^(https?|mailto):$/i;

/**
 * react-markdown's `urlTransform`: keeps http(s), mailto and relative/fragment URLs, and turns
 * anything else into '' (the link then renders as inert text). Control characters and
 * whitespace inside the scheme ("java\tscript:") are stripped before the check, as browsers do.
 */
export function safeUrl(url: string): string {
  // Browsers ignore these characters inside a scheme, so an attacker may hide one there.
  // eslint-disable-next-line no-control-regex
  const cleaned = url.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  const colon = cleaned.indexOf(':');
  const firstDelimiter = cleaned.search(/[/?#]/);
  if (colon === -1 || (firstDelimiter !== -1 && colon > firstDelimiter)) return url.trim();
  return ALLOWED_PROTOCOL.test(cleaned.slice(0, colon + 1)) ? url.trim() : '';
}
