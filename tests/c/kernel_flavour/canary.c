/* Built with ordinary hosted flags, this object must trip both checks of
 * check.sh (vector instructions, red-zone use): it proves the checks can fail. */
double scale(double x, double y);
double scale(double x, double y) {
    return x * y + 1.5;
}
long leaf(long a, long b);
long leaf(long a, long b) {
    volatile long spill[4] = {a, b, a + b, a - b};  // a leaf keeps these below %rsp
    return spill[0] + spill[3];
}
