// Docker's word processing lives in common/ (the dev container layer reads FROM lines with it too).
export { shellExpand, shellWords, type Vars } from '../../common/shell-words';
