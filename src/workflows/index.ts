export { fineTune } from './fineTune';
