/** How long a trashed document has left before the server deletes it for good. */

const DAY = 86_400_000;

/** "30 days left" (a day begun counts), "1 day left", then "Deleted for good soon". */
export function daysLeft(purgeAt: string, now = Date.now()): string {
  const days = Math.ceil((Date.parse(purgeAt) - now) / DAY);
  if (!(days >= 1)) return "Deleted for good soon";
  return days === 1 ? "1 day left" : `${days} days left`;
}
