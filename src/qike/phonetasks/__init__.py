"""Phone-number add tasks (手机号添加): imported lists of phones that staff add in WeCom, day by day."""
