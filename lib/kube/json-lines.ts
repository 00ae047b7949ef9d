// Kubernetes watch responses are newline-delimited JSON: one event per line, in chunks that split lines anywhere.
import type { Readable } from 'node:stream';

/**
 * Hands each JSON value of `stream` to `onValue` as soon as its line is complete. `onValue` returns false to stop
 * reading (the stream is destroyed); a line that is not JSON, or an exception from `onValue`, stops reading too
 * and goes to `onError`. The end and errors of the stream itself are the caller's to handle.
 */
export function eachJsonLine(stream: Readable, onValue: (value: unknown) => boolean | void, onError: (err: Error) => void): void {
  let buf = '';
  let done = false;
  const stop = () => {
    done = true;
    stream.destroy();
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0 && !done; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        stop();
        onError(new Error(`the API server sent a line that is not JSON: ${(err as Error).message}`, { cause: err }));
        return;
      }
      let more: boolean | void;
      try {
        more = onValue(value);
      } catch (err) {
        // A throwing consumer must not become an uncaught exception of the stream's 'data' event.
        stop();
        onError(err as Error);
        return;
      }
      if (more === false) stop();
    }
  });
}
