import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';

// The service definition and messages the npm SDK itself is generated from (agones.dev.sdk.SDK,
// Agones' sdk.proto): the stand-in speaks exactly what the real sidecar speaks.
const require = createRequire(import.meta.url);
const services = require('@google-cloud/agones-sdk/lib/sdk_grpc_pb.js');
const messages = require('@google-cloud/agones-sdk/lib/sdk_pb.js');

export type SdkMethod = 'Ready' | 'Allocate' | 'Shutdown' | 'Health' | 'GetGameServer' | 'SetLabel';

export interface SdkCall {
  method: SdkMethod;
  /** Sequence number across every call, for ordering. */
  seq: number;
}

export interface GameServerStatus {
  name: string;
  address: string;
  ports: { name: string; port: number }[];
}

/**
 * A loopback stand-in for the Agones SDK sidecar (a gRPC server on 127.0.0.1 implementing
 * `agones.dev.sdk.SDK`) that records every call. It is not Agones: it checks no state transition;
 * what the real sidecar and controller do with the calls only a cluster shows (docs/deploy.md).
 */
export interface AgonesSdkServer {
  port: number;
  calls: SdkCall[];
  count(method: SdkMethod): number;
  /** Resolves once `method` has been called `n` times in all, within `timeoutMs`. */
  waitFor(method: SdkMethod, n?: number, timeoutMs?: number): Promise<void>;
  /** Runs `probe` when Shutdown arrives, before it is answered (what the server had done by then). */
  onShutdown: (() => void) | null;
  close(): Promise<void>;
}

export async function startAgonesSdkServer(status: GameServerStatus): Promise<AgonesSdkServer> {
  const calls: SdkCall[] = [];
  const waiters = new Set<() => void>();
  let seq = 0;
  const record = (method: SdkMethod) => {
    calls.push({ method, seq: seq++ });
    for (const w of waiters) w();
  };
  const empty = () => new messages.Empty();
  const unary =
    (method: SdkMethod, before?: () => void) => (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
      record(method);
      before?.();
      callback(null, empty());
    };
  const server = new grpc.Server();
  const self: AgonesSdkServer = {
    port: 0,
    calls,
    onShutdown: null,
    count: (method) => calls.filter((c) => c.method === method).length,
    waitFor(method, n = 1, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (self.count(method) < n) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${method} not called ${n} time(s) within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.tryShutdown(() => resolve());
        // Health is a client stream the SDK keeps open: end it rather than wait for the client.
        setImmediate(() => server.forceShutdown());
      }),
  };
  server.addService(services['agones.dev.sdk.SDK'], {
    ready: unary('Ready'),
    allocate: unary('Allocate'),
    shutdown: unary('Shutdown', () => self.onShutdown?.()),
    setLabel: unary('SetLabel'),
    health: (call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      call.on('data', () => record('Health'));
      call.on('end', () => callback(null, empty()));
      call.on('error', () => {});
    },
    getGameServer: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
      record('GetGameServer');
      const meta = new messages.GameServer.ObjectMeta();
      meta.setName(status.name);
      meta.setNamespace('default');
      const st = new messages.GameServer.Status();
      st.setState('Scheduled');
      st.setAddress(status.address);
      st.setPortsList(
        status.ports.map((p) => {
          const port = new messages.GameServer.Status.Port();
          port.setName(p.name);
          port.setPort(p.port);
          return port;
        }),
      );
      const gs = new messages.GameServer();
      gs.setObjectMeta(meta);
      gs.setStatus(st);
      callback(null, gs);
    },
  });
  self.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
  return self;
}
