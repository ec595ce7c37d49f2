/** Icons as inline SVG: they render the same everywhere, with or without an emoji font. */

/** A pushpin (pinned conversations). Decorative: the text next to it says "pinned" to screen readers. */
export function PinIcon() {
  return (
    <svg
      className="icon"
      width="14"
      height="14"
      viewBox="0 0 24 24"
      aria-hidden="true"
      focusable="false"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      data-icon="pin"
    >
      <path d="M9 4h6l-1 6 3 3v2H7v-2l3-3z" />
      <path d="M12 15v6" />
    </svg>
  );
}
