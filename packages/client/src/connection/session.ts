import {
  CloseCodes,
  closeCodeFor,
  encodeLeave,
  encodePing,
  errorNameOf,
  type RedirectPayload,
  type ServerFrame,
  ServerOp,
  type StateFrame,
  type Welcome,
} from '@plexus/protocol';
import { PlexusError, toPlexusError } from '../errors.ts';
import type { DisconnectInfo, PlaygroundOptions } from '../playground-types.ts';
import { Heartbeat } from './heartbeat.ts';
import type { Link } from './link.ts';
import { isResumableClose, LIVENESS_CLOSE_CODE, type ReconnectPolicy } from './reconnect.ts';
import {
  type EndpointResolver,
  type ReconnectedInfo,
  type ReconnectingInfo,
  type ResumeTrigger,
  resumeLink,
} from './resumer.ts';

/** What a session knows of the connection it adopted: the WELCOME, its keyframe, its version. */
export interface Linked {
  readonly welcome: Welcome;
  readonly keyframe: StateFrame;
  readonly protocolVersion: number;
}

/**
 * What a {@link Session} tells its owner, in order (docs/architecture.md, "The SDK"). Calls go one
 * way: the owner reacts, and sends only through {@link Session.send} / {@link Session.ping}.
 */
export interface SessionSink {
  /** A connection was adopted (the first, or the one a resume found): start over from its keyframe. */
  linked(linked: Linked): void;
  /** A frame of the adopted connection (WELCOME, REDIRECT and fatal ERRORs stay in the session). */
  frame(frame: SessionFrame): void;
  /** The adopted connection ended: whatever was in flight on it ends with `error`. */
  unlinked(error: PlexusError): void;
  reconnecting(info: ReconnectingInfo): void;
  reconnected(info: ReconnectedInfo): void;
  /** The session ended for good (once). */
  disconnected(info: DisconnectInfo): void;
}

export interface SessionOptions {
  options: PlaygroundOptions;
  now: () => number;
  /** Undefined: a drop is not resumed (bad options were refused before). */
  policy: ReconnectPolicy | undefined;
  /** Asks the balancer for the playground again; without it only a REDIRECT is followed. */
  resolve: EndpointResolver | undefined;
}

export type SessionPhase = 'connected' | 'reconnecting' | 'disconnected';

/** The frames a session passes on to its owner. */
export type SessionFrame = Exclude<ServerFrame, { op: typeof ServerOp.WELCOME | typeof ServerOp.REDIRECT }>;

/**
 * A playground session over its successive connections: adopts a joined {@link Link}, keeps it
 * alive (heartbeat, RTT), resumes it after a resumable drop or a REDIRECT, and ends it (leave, or a
 * drop it cannot resume). It knows nothing of entities: everything else goes to its
 * {@link SessionSink}.
 */
export class Session {
  /** Round-trip time measured by the last PING/PONG, ms. */
  rttMs: number | undefined;
  private link: Link | undefined;
  private state: SessionPhase = 'connected';
  private readonly sink: SessionSink;
  private readonly o: SessionOptions;
  private readonly heartbeat: Heartbeat;
  private resumeToken: string | undefined;
  private bytesOfEarlierLinks = 0;
  private leaving = false;
  private fatalError: PlexusError | undefined;
  private reconnectAbort: AbortController | undefined;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  private current: Linked;

  constructor(link: Link, sink: SessionSink, o: SessionOptions) {
    this.sink = sink;
    this.o = o;
    this.current = link;
    this.closedPromise = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.heartbeat = new Heartbeat({
      pingIntervalMs: o.options.pingIntervalMs ?? 1000,
      livenessTimeoutMs: o.options.livenessTimeoutMs ?? 3000,
      now: o.now,
      sendPing: () => this.link?.send(encodePing(o.now())) ?? false,
      onDead: (silentMs) =>
        this.link?.close(
          LIVENESS_CLOSE_CODE,
          'liveness timeout',
          PlexusError.of(
            'CLIENT_LIVENESS_TIMEOUT',
            `Nothing received from ${this.current.welcome.serverId} for ${Math.round(silentMs)} ms`,
          ),
        ),
    });
  }

  /** Adopts the first connection; its frames flow once the caller had a chance to listen. */
  start(link: Link): void {
    this.adopt(link, true);
  }

  get phase(): SessionPhase {
    return this.state;
  }

  /** The WELCOME, keyframe and version of the adopted (or last) connection. */
  get linked(): Linked {
    return this.current;
  }

  get bytesReceived(): number {
    return this.bytesOfEarlierLinks + (this.link?.bytesReceived ?? 0);
  }

  /** Sends one frame; false when no connection is open. */
  send(bytes: Uint8Array): boolean {
    return this.link?.send(bytes) ?? false;
  }

  /** Sends a PING and returns its ordinal on this connection (PONGs come back in order). */
  ping(): number {
    return this.heartbeat.ping();
  }

  /** See `Playground.leave`. */
  async leave(): Promise<void> {
    if (this.state === 'disconnected') return;
    this.leaving = true;
    const link = this.link;
    if (!link) {
      this.finish({ code: CloseCodes.NORMAL, reason: 'leave' });
      return;
    }
    link.send(encodeLeave());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.o.options.leaveTimeoutMs ?? 2000);
    });
    await Promise.race([this.closedPromise, timeout]);
    clearTimeout(timer);
    if (this.phase !== 'disconnected') link.close(CloseCodes.NORMAL, 'leave');
  }

  private adopt(link: Link, initial = false): void {
    this.link = link;
    this.current = link;
    this.state = 'connected';
    if (link.welcome.resumeToken !== undefined) this.resumeToken = link.welcome.resumeToken;
    this.sink.linked(link);
    this.heartbeat.start();
    const attach = (): void =>
      link.attach({
        frame: (frame) => this.onFrame(link, frame),
        closed: (code, reason, error) => this.onClosed(link, code, reason, error),
      });
    // Frames that came with the welcome (an offline inbox's EVENTs, a MESSAGE) are handed over one
    // macrotask later on a first join, once `await client.join()` has returned and its caller added
    // listeners (later frames wait behind them); on a resume the listeners are there already.
    if (initial && link.holdsFrames) setTimeout(attach, 0);
    else attach();
  }

  private onFrame(link: Link, frame: ServerFrame): void {
    if (link !== this.link) return;
    this.heartbeat.received();
    switch (frame.op) {
      case ServerOp.WELCOME:
        throw PlexusError.of('PROTOCOL_UNEXPECTED_FRAME', 'Second WELCOME from server');
      case ServerOp.REDIRECT:
        this.onRedirect(frame.redirect);
        return;
      case ServerOp.PONG:
        this.rttMs = Math.max(0, this.o.now() - frame.clientTimeMs);
        break;
      case ServerOp.ERROR: {
        const name = errorNameOf(frame.code);
        if (name && closeCodeFor[name] !== undefined) {
          // Fatal: the server closes right after; report this error with the close.
          this.fatalError = PlexusError.fromFrame(frame);
          return;
        }
        break;
      }
    }
    this.sink.frame(frame);
  }

  /** The current connection ended: resume it when the reason allows, else end the session. */
  private onClosed(link: Link, code: number, reason: string, error?: PlexusError): void {
    if (link !== this.link) return;
    this.detach(link);
    const cause = this.fatalError ?? error;
    this.fatalError = undefined;
    const closed = PlexusError.of(
      'CLIENT_CONNECTION_CLOSED',
      `Connection closed (${code}${reason ? `: ${reason}` : ''})`,
      cause ? { cause } : {},
    );
    if (!this.leaving && this.o.policy && this.o.resolve && isResumableClose(code)) {
      this.sink.unlinked(closed);
      this.startResume(
        {
          reason: code === LIVENESS_CLOSE_CODE ? 'liveness' : 'closed',
          closeCode: code,
          error: cause ?? closed,
        },
        { code, reason },
      );
      return;
    }
    this.sink.unlinked(cause ?? closed);
    this.finish(cause ? { code, reason, error: cause } : { code, reason });
  }

  /**
   * REDIRECT (drain): the playground moved; connect straight to the new endpoint with the ticket
   * the old server got for us. An unusable redirect is ignored: the server then closes with 4014
   * and the client resumes through the balancer.
   */
  private onRedirect(redirect: RedirectPayload): void {
    const link = this.link;
    if (!link || !this.o.policy || this.leaving || !isRedirect(redirect, this.current.welcome.playgroundId)) {
      return;
    }
    this.detach(link);
    this.sink.unlinked(PlexusError.of('CLIENT_CONNECTION_CLOSED', 'The playground moved to another server'));
    link.close(CloseCodes.NORMAL, 'redirect');
    this.startResume(
      { reason: 'redirect', redirect: { endpoint: redirect.endpoint, ticket: redirect.ticket } },
      { code: CloseCodes.PLAYGROUND_MOVED, reason: 'redirect' },
    );
  }

  private detach(link: Link): void {
    this.link = undefined;
    this.bytesOfEarlierLinks += link.bytesReceived;
    this.heartbeat.stop();
  }

  private startResume(trigger: ResumeTrigger, drop: { code: number; reason: string }): void {
    this.state = 'reconnecting';
    const abort = new AbortController();
    this.reconnectAbort = abort;
    // A dead link was dead since its last frame, not since the timeout noticed it.
    const startedAt = trigger.reason === 'liveness' ? this.heartbeat.lastFrameAt : this.o.now();
    const previousSelfId = this.current.welcome.selfId;
    const previousClientId = this.current.welcome.clientId;
    const ended = (error: PlexusError): void => this.finish({ ...drop, error });
    void resumeLink(
      trigger,
      {
        policy: this.o.policy as ReconnectPolicy,
        now: this.o.now,
        WebSocket: this.o.options.WebSocket,
        resolve: this.o.resolve,
        resumeToken: () => this.resumeToken,
        onAttempt: (info) => this.sink.reconnecting(info),
      },
      abort.signal,
    )
      .then((outcome) => {
        if (abort.signal.aborted || this.state !== 'reconnecting') {
          // Left meanwhile: do not keep a restored avatar waiting for a resume.
          if (outcome.ok) {
            outcome.link.send(encodeLeave());
            outcome.link.close(CloseCodes.NORMAL, 'leave');
          }
          return;
        }
        if (!outcome.ok) {
          if ('error' in outcome) ended(outcome.error);
          return;
        }
        this.adopt(outcome.link);
        const welcome = outcome.link.welcome;
        this.sink.reconnected({
          downtimeMs: Math.max(0, this.o.now() - startedAt),
          resumed: welcome.resumed === true,
          serverId: welcome.serverId,
          attempts: outcome.attempts,
          reason: trigger.reason,
          selfChanged: welcome.selfId !== previousSelfId,
          previousSelfId,
          previousClientId,
        });
      })
      .catch((err: unknown) => ended(toPlexusError(err, 'CLIENT_RECONNECT_FAILED', 'Resuming failed')));
  }

  /** Ends the session for good (once). */
  private finish(info: DisconnectInfo): void {
    if (this.state === 'disconnected') return;
    this.state = 'disconnected';
    this.heartbeat.stop();
    this.reconnectAbort?.abort();
    this.resolveClosed();
    this.sink.disconnected(info);
  }
}

function isRedirect(redirect: RedirectPayload, playgroundId: string): boolean {
  return (
    typeof redirect.endpoint === 'string' &&
    /^wss?:\/\//.test(redirect.endpoint) &&
    typeof redirect.ticket === 'string' &&
    redirect.ticket.length > 0 &&
    redirect.playgroundId === playgroundId
  );
}
