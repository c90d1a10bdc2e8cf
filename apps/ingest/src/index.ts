/** What other apps may use of ingest: the embedded app composes its module. */
export { IngestModule } from './ingest.module';
export { LiveViewModule } from './live-view/live-view.module';
export { GeometryProxyModule } from './geometry-proxy/geometry-proxy.module';
