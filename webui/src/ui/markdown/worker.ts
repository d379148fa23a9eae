/**
 * The preview's parser, in a worker: markdown-it over a 100,000-character document takes several
 * milliseconds per change, and on the page's main thread that is time taken from the next
 * keystroke and the next frame. Here it costs the page only the message: the text in, a patch of
 * the blocks that changed out (blocks.ts). The page sanitises and places the new blocks.
 *
 * Messages: `{ text: string }` in, a `Patch` out for each, in order (one worker per preview: its
 * first patch adds every block).
 */
import { BlockRenderer } from "./blocks";

const renderer = new BlockRenderer();

self.addEventListener("message", (ev: MessageEvent<{ text: string }>) => {
  const patch = renderer.update(ev.data.text);
  (self as unknown as Worker).postMessage(patch, [patch.lines.buffer]);
});
