// The workloads of issue 6, and which systems run each. A workload only says what requests to
// send; the routes (bench/apps/) do the same thing in every system.
import type { RequestSpec } from './load.ts'

export interface Workload {
  id: string
  title: string
  /** Which seeded sessions it sends cookies of: none, the small ones or the 50 KB ones. */
  sessions: 'none' | 'small' | 'large'
  next: (n: number, cookies: readonly string[]) => RequestSpec
}

const pick = (n: number, cookies: readonly string[]) => cookies[n % cookies.length]

export const WORKLOADS: Workload[] = [
  {
    id: 'W1',
    title: 'anonymous request, route never touches the session',
    sessions: 'none',
    next: () => ({ method: 'GET', path: '/none' }),
  },
  {
    id: 'W5',
    title: 'route never touches the session, sent with a session cookie',
    sessions: 'small',
    next: (n, cookies) => ({ method: 'GET', path: '/none', cookie: pick(n, cookies) }),
  },
  {
    id: 'W2',
    title: 'read-only request with an established session',
    sessions: 'small',
    next: (n, cookies) => ({ method: 'GET', path: '/read', cookie: pick(n, cookies) }),
  },
  {
    id: 'W3',
    title: 'request that changes the session (read, then increment a counter)',
    sessions: 'small',
    next: (n, cookies) => ({ method: 'POST', path: '/write', cookie: pick(n, cookies) }),
  },
  {
    id: 'W3b',
    title: 'request that sets a value without reading the session first',
    sessions: 'small',
    next: (n, cookies) => ({ method: 'POST', path: '/blind', cookie: pick(n, cookies) }),
  },
  {
    id: 'W4',
    title: '90% reads (W2), 10% writes (W3)',
    sessions: 'small',
    next: (n, cookies) => ({
      method: n % 10 === 9 ? 'POST' : 'GET',
      path: n % 10 === 9 ? '/write' : '/read',
      cookie: pick(n, cookies),
    }),
  },
  {
    id: 'W6r',
    title: 'large session (50 KB of data): read, nothing changed',
    sessions: 'large',
    next: (n, cookies) => ({ method: 'GET', path: '/large/read', cookie: pick(n, cookies) }),
  },
  {
    id: 'W6w',
    title: 'large session (50 KB of data): one small value changed',
    sessions: 'large',
    next: (n, cookies) => ({ method: 'POST', path: '/large/write', cookie: pick(n, cookies) }),
  },
]
