/** What other apps may use of inference: the embedded app composes its module. */
export { InferenceModule } from './inference.module';
