import { teardown } from "./temp-root";

module.exports = teardown;
