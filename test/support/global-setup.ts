import { setup } from "./temp-root";

module.exports = setup;
