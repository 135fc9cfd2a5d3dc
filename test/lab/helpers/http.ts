// HTTP from a test on the host to a service in a guest: `lab().forward(node, port)` gives
// a unix socket that reaches 10.77.0.N:PORT over the lab's network; this speaks HTTP on it.
export { requestOverSocket as httpOverSocket, type SocketResponse } from '../../../vagrant/lab/forward.js';
