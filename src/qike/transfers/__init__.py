"""Hand-over: on-job and resigned transfers of customers between staff (在职继承 / 离职继承)."""
