/**
 * The environment a command sees. Below the command lines (cli/io.ts, whose CommandIO carries
 * one) because this process's own settings are read from one too (util/programs.ts).
 */

/** An environment as a command sees it (a copy: commands never change it). */
export type Env = Readonly<Record<string, string | undefined>>;
