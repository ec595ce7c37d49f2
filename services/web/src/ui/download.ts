/** Saves a blob as a file through a temporary link (no server round trip). */
export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  // The click starts the download synchronously; the URL only has to outlive it.
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}
