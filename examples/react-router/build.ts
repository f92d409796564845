// A React Router server build made by hand: the object `react-router build` writes to
// build/server/index.js, for a server-rendered app without client JavaScript. A real app gets
// it from the Vite plugin; this example builds it in code so it runs with no bundler.
import { createElement } from 'react'
import { renderToString } from 'react-dom/server'
import {
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MiddlewareFunction,
  type RouterContextProvider,
  type ServerBuild,
  ServerRouter,
} from 'react-router'

/** One route module, as a file under app/routes/ would export it. */
export interface RouteModule {
  path?: string
  index?: true
  /** The parent route's id; the root when omitted. */
  parentId?: string
  middleware?: MiddlewareFunction<Response>[]
  /** With middleware on, `context` is React Router's RouterContextProvider. */
  loader?: (args: LoaderFunctionArgs<RouterContextProvider>) => unknown
  action?: (args: ActionFunctionArgs<RouterContextProvider>) => unknown
  /** Omitted for a resource route: its loader's Response is sent as it is. */
  default?: () => unknown
}

/** A server build of `routes` under a root route that runs `middleware` and renders `root`. */
export function serverBuild(
  routes: Record<string, RouteModule>,
  root: { middleware?: MiddlewareFunction<Response>[]; default: () => unknown },
): ServerBuild {
  const all: Record<string, RouteModule> = { root: { path: '', ...root }, ...routes }
  const entries = Object.entries(all).map(([id, route]) => {
    const parentId = id === 'root' ? undefined : (route.parentId ?? 'root')
    return [id, { id, parentId, path: route.path, index: route.index, route }] as const
  })
  return {
    ssr: true,
    isSpaMode: false,
    prerender: [],
    publicPath: '/',
    assetsBuildDirectory: '',
    future: { v8_middleware: true, v8_passThroughRequests: false, v8_trailingSlashAwareDataRequests: false },
    routeDiscovery: { mode: 'initial', manifestPath: '/__manifest' },
    entry: { module: { default: renderDocument } },
    assets: {
      url: '/manifest.js',
      version: '1',
      entry: { imports: [], module: '' },
      routes: Object.fromEntries(
        entries.map(([id, { route, ...shape }]) => [
          id,
          {
            ...shape,
            module: '',
            hasAction: route.action !== undefined,
            hasLoader: route.loader !== undefined,
            hasClientAction: false,
            hasClientLoader: false,
            hasClientMiddleware: false,
            hasErrorBoundary: false,
            clientActionModule: undefined,
            clientLoaderModule: undefined,
            clientMiddlewareModule: undefined,
            hydrateFallbackModule: undefined,
          },
        ]),
      ),
    },
    routes: Object.fromEntries(
      entries.map(([id, { route, ...shape }]) => {
        const { path: _path, index: _index, parentId: _parentId, ...module } = route
        return [id, { ...shape, module }]
      }),
    ),
  } as unknown as ServerBuild
}

/** app/entry.server: renders the matched routes to HTML (no streaming, no client scripts). */
function renderDocument(
  request: Request,
  status: number,
  headers: Headers,
  context: Parameters<typeof ServerRouter>[0]['context'],
): Response {
  const html = renderToString(createElement(ServerRouter, { context, url: request.url }))
  headers.set('content-type', 'text/html; charset=utf-8')
  return new Response(`<!doctype html>${html}`, { status, headers })
}
