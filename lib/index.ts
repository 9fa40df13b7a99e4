export * from './cancel-pipeline-deployment';
export * from './provider';
