/**
 * The image commands, registered in main.ts's command table as one list: Docker's top-level
 * names (pull, push, images, rmi, tag, history, load, save, import, login, logout) and their
 * `image <verb>` forms (image ls, image rm, image inspect, image prune …).
 */
import type { Command } from './context.js';
import { history } from './history.js';
import { imageInspect } from './image-inspect.js';
import { imagePrune } from './image-prune.js';
import { images } from './images.js';
import { importCmd } from './import.js';
import { load } from './load.js';
import { login, logout } from './login.js';
import { pull } from './pull.js';
import { push } from './push.js';
import { rmi } from './rmi.js';
import { save } from './save.js';
import { tag } from './tag.js';

/** Every image command. */
export const IMAGE_COMMANDS: Command[] = [pull, push, images, rmi, tag, history, imageInspect, imagePrune, load, save, importCmd, login, logout];
