/**
 * Generated container names in Docker's style (`adjective_surname`, moby pkg/namesgenerator),
 * with surnames of people who shaped operating systems and containers.
 */
import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'admiring', 'bold', 'brave', 'busy', 'calm', 'clever', 'cool', 'dazzling', 'eager', 'elastic', 'epic',
  'festive', 'focused', 'gallant', 'happy', 'hopeful', 'jolly', 'keen', 'kind', 'lucid', 'modest', 'nifty',
  'optimistic', 'patient', 'quirky', 'relaxed', 'serene', 'sharp', 'stoic', 'tender', 'vibrant', 'zealous',
];

const SURNAMES = [
  'bellard', 'cerf', 'corbato', 'cox', 'dijkstra', 'engelbart', 'hamilton', 'hopper', 'kernighan', 'knuth',
  'lamport', 'liskov', 'lovelace', 'mccarthy', 'mcilroy', 'menage', 'perlman', 'pike', 'ritchie', 'stallman',
  'tanenbaum', 'thompson', 'torvalds', 'turing', 'wirth', 'wozniak',
];

/** A random name; with `suffix` a digit is appended (Docker does so after a collision). */
export function randomName(suffix = false): string {
  const name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
  return suffix ? `${name}${randomInt(10)}` : name;
}
