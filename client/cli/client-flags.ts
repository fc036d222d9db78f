/**
 * The flags every client command (`check`, `rules`, `agent`) shares: where
 * the server is and how to prove who we are to it. `PODWALL_SERVER` and
 * `PODWALL_TOKEN_FILE` stand in for `--server` and `--token-file`.
 */
import { type Command, Option } from "commander";
import { Transport } from "../transport.js";

export interface ClientFlags {
  readonly server?: string;
  readonly tokenFile?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** Where a command asks when neither `--server` nor `PODWALL_SERVER` says. */
export const DEFAULT_SERVER = "http://localhost:8080";

export function serverOption(description: string, flags = "--server <url>"): Option {
  return new Option(flags, description).env("PODWALL_SERVER");
}

/** `--token-file`, `--ca`, `--cert` and `--key`, each added to every client command. */
/** The credentials every client command takes: a bearer token, the server's CA, a client certificate and its key. */
export function withCredentials(cmd: Command): Command {
  return cmd
    .addOption(new Option("--token-file <file>", "send the bearer token in this file (re-read when it changes)").env("PODWALL_TOKEN_FILE"))
    .addOption(new Option("--ca <file>", "trust the server's certificate when this CA (PEM) signed it, instead of the system's CAs"))
    .addOption(new Option("--cert <file>", "present this client certificate (PEM), with --key"))
    .addOption(new Option("--key <file>", "the private key (PEM) of --cert"));
}

/** The transport the flags describe; throws, naming the file, when one cannot be read. */
export function transportOf(o: ClientFlags): Transport {
  return new Transport({
    ...(o.tokenFile !== undefined ? { tokenFile: o.tokenFile } : {}),
    ...(o.ca !== undefined ? { ca: o.ca } : {}),
    ...(o.cert !== undefined ? { cert: o.cert } : {}),
    ...(o.key !== undefined ? { key: o.key } : {}),
  });
}
