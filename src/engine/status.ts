/**
 * A container's state in Docker's words, for `ps` and the Engine API's container list:
 * "Up 3 seconds", "Exited (137) 2 minutes ago", "Created".
 */
import type { EngineRecord } from './store.js';

/** go-units HumanDuration: "Less than a second", "3 seconds", "About a minute", "2 hours" … */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

/** The STATUS column of `docker ps`: "Up 3 seconds", "Exited (137) 2 minutes ago", "Created". */
export function statusText(rec: EngineRecord, now = Date.now()): string {
  const st = rec.State;
  if (st.Running) return `Up ${humanDuration(now - Date.parse(st.StartedAt))}${st.Paused ? ' (Paused)' : ''}`;
  if (st.Status === 'restarting') return `Restarting (${st.ExitCode}) ${humanDuration(now - Date.parse(st.FinishedAt))} ago`;
  if (st.Status === 'exited') return `Exited (${st.ExitCode}) ${humanDuration(now - Date.parse(st.FinishedAt))} ago`;
  return st.Status.charAt(0).toUpperCase() + st.Status.slice(1);
}
