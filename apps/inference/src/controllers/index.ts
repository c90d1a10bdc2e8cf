import './inference-routes';
import { ModelsController } from './models.controller';

export const INFERENCE_CONTROLLERS = [ModelsController];
