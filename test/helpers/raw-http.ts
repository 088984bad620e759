// Raw bytes to an HTTP server and back its status code: for malformed requests no client would send.
import { connect } from "node:net";

/**
 * Writes `bytes` to 127.0.0.1:`port` (closing our side after them with `endInput`) and resolves with
 * the status of the answer, or "closed" when the server closed without answering; rejects after 10 s.
 */
export function rawStatus(port: number, bytes: Buffer | string, endInput = false): Promise<number | "closed"> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let head = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 10 s to: ${JSON.stringify(Buffer.from(bytes).subarray(0, 200).toString("latin1"))}`));
    }, 10_000);
    const done = (v: number | "closed") => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    socket.on("data", (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m) done(Number(m[1]));
    });
    socket.on("error", () => undefined);
    socket.on("close", () => done("closed"));
    socket.write(bytes, () => {
      if (endInput) socket.end();
    });
  });
}
