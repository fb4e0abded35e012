package awsaccounts

// LikeLiteral exports likeLiteral to tests.
var LikeLiteral = likeLiteral
