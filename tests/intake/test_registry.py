from qike.intake import registry


def test_handlers_run_by_order_then_registration():
    kind = "registry_test/ordering"
    try:

        @registry.handles(kind)
        def slow(*, corp, event):
            pass

        @registry.handles(kind, order=10)
        def urgent(*, corp, event):
            pass

        @registry.handles(kind)
        def later(*, corp, event):
            pass

        registry.handles(kind)(slow)  # registering twice changes nothing
        assert registry.handlers_for(kind) == [urgent, slow, later]
    finally:
        registry._handlers.pop(kind, None)


def test_welcome_runs_before_the_customer_refresh():
    handlers = registry.handlers_for("change_external_contact/add_external_contact")
    names = [h.__module__ for h in handlers]
    assert names.index("qike.engagement.handlers") < names.index("qike.customers.handlers")
