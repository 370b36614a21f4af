import { invalidParameter } from '../../util/errors';

// Our own word lists for generated names ("adjective_surname", as Docker names containers).
const ADJECTIVES = [
  'agile', 'amber', 'ancient', 'bold', 'brave', 'bright', 'calm', 'clever', 'cosmic', 'crisp', 'daring', 'eager',
  'earnest', 'fancy', 'fearless', 'festive', 'gentle', 'glad', 'golden', 'happy', 'hardy', 'humble', 'jolly', 'keen',
  'kind', 'lively', 'lucid', 'merry', 'mellow', 'nimble', 'noble', 'patient', 'polite', 'proud', 'quiet', 'quick',
  'rapid', 'serene', 'sharp', 'shiny', 'silent', 'sleepy', 'smart', 'snappy', 'steady', 'sunny', 'swift', 'tender',
  'tidy', 'upbeat', 'vibrant', 'vivid', 'warm', 'wise', 'witty', 'zealous',
];
const SURNAMES = [
  'archimedes', 'babbage', 'bohr', 'boole', 'cantor', 'carson', 'curie', 'darwin', 'dijkstra', 'einstein', 'euclid',
  'euler', 'faraday', 'fermi', 'feynman', 'franklin', 'galileo', 'gauss', 'goodall', 'hamilton', 'hawking', 'hopper',
  'hypatia', 'johnson', 'kepler', 'knuth', 'lamarr', 'leavitt', 'lovelace', 'maxwell', 'meitner', 'mendel', 'newton',
  'noether', 'pascal', 'pasteur', 'planck', 'ramanujan', 'ritchie', 'sagan', 'shannon', 'tesla', 'thompson', 'turing',
  'volta', 'wozniak', 'yalow',
];

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

export function generateName(taken: (name: string) => boolean): string {
  for (let i = 0; i < 10; i++) {
    const name = `${pick(ADJECTIVES)}_${pick(SURNAMES)}`;
    if (!taken(name)) return name;
  }
  for (;;) {
    const name = `${pick(ADJECTIVES)}_${pick(SURNAMES)}${Math.floor(Math.random() * 100)}`;
    if (!taken(name)) return name;
  }
}

const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Validates a user-given name and returns it without a leading slash. */
export function validateName(name: string): string {
  if (!VALID_NAME.test(name)) throw invalidParameter(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.replace(/^\//, '');
}
